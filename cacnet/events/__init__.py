"""Events: the summit and its sessions, webinars and meetings the secretariat publishes."""
