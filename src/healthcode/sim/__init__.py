"""The synthetic city: people, venues, an outbreak, all entered through the real intake path."""
