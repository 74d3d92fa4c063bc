"""Membership applications and the membership state machine; the secretariat's queue."""
