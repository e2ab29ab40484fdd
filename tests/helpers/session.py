"""What the session's fixtures (tests/conftest.py) share with the tests: the
payload key and data converter every client of the session uses, the dev
server's continue-as-new threshold, where screenshots go."""

from pathlib import Path

from complaints.payload_codec import new_key_line
from complaints.settings import Settings
from complaints.temporal_client import data_converter

PAYLOAD_KEYS = new_key_line("test-1")  # one key for the session's payloads
CONVERTER = data_converter(Settings(_env_file=None, payload_keys=PAYLOAD_KEYS))
SUGGEST_CONTINUE_AS_NEW_AFTER = 400  # history events
ARTIFACTS = Path(__file__).parent.parent / "artifacts"  # screenshots; git-ignored
