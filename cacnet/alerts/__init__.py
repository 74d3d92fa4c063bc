"""Early warning alerts between member cities: raised, acknowledged, updated, closed."""
