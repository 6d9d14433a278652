"""Offer base, gazetteer, free-text understanding and matching: pure functions over loaded data."""
