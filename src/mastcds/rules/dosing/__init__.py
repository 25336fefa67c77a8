"""Drug doses from the label tables: omalizumab and the adrenaline auto-injector."""
