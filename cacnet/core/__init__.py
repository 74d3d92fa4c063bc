"""Mechanisms shared by every capability: database base, audit log, mail queue, i18n, security."""
