"""News and announcements of the alliance: the secretariat's news and notes from the chair, and
member cities' stories, published after the secretariat's moderation; a public page, an Atom
feed and an opt-in weekly e-mail digest."""
