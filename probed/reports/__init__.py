"""The periodic monitoring report (docs/design.md §18.6): figures per monitor for a week or a
month (``figures``, read by ``collect``), how a person reads them (``render``), when they are
due (``schedule``) and their mail through the outbox, once per period (``sender``)."""
