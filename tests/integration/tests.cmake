# Integration tests (filled in by tests/integration/*): see README in this folder.
