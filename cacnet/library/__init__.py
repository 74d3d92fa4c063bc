"""The countermeasure library: case studies that member cities publish, in English and Korean."""
