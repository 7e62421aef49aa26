"""The till's screens: sign-in, the three counters, and their dialogs."""
