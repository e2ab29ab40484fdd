"""The HTTP API (operators, with API keys) and the complainant's web pages
(signed links), over the same intake and workflow as every other channel."""
