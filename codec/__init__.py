"""The codec server: lets authorised engineers read encrypted payloads in the Temporal UI."""
