"""Areas of work (quarantine measures, education, ...): the shared vocabulary of the
countermeasure library and the events. The CAC Global Summit 2020's ten areas come first; the
secretariat adds others."""
