"""One search for the header: cities, library cases, news, events and products, in either
language. Each capability registers a provider (``cacnet.search.registry``); this package only
walks the providers and shows their hits labelled by kind."""
