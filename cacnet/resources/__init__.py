"""The resource exchange: offers and requests of staff, supplies and know-how between member cities."""
