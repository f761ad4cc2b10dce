"""Alerts (docs/design.md §4): policy → durable outbox → dispatcher → channels.

policy.py      which events alert: alerts_for(event, marks), a pure function
recorder.py    the pipeline's RecordHook: policy decisions → outbox rows, in the
               transaction that stores the transitions
outbox.py      the durable outbox (its rows kept by probed.store): Message-IDs, storm
               digests, retry bookkeeping
dispatcher.py  delivery rounds: backoff, expiry, digests, reminders, shutdown flush
messages.py    subject, plain text and HTML of each alert
channels.py    the Channel interface, the channels of a config (each built by the sender its
               type names in probed.config.channels.CHANNEL_TYPES), test messages
email.py       the SMTP channel (aiosmtplib)
webhook.py, alertmanager.py, apprise.py   the other channel types' senders
"""
