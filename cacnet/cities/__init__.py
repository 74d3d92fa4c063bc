"""Member cities: profiles, contacts, the public directory and map."""
