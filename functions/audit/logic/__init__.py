"""Lost & Found audit core: report parsers, detectors, claims. Pure: no AWS, no environment."""
