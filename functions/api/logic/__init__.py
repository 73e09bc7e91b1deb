"""Business functions behind the API routes: no HTTP, no boto3; repositories are passed in."""
