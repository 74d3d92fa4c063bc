"""Cities network links: official pandemic pages of member cities and international organisations."""
