"""The Seoul Statement: its versions, endorsements by signatories, and the public signatory list."""
