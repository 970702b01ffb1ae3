"""The admin console under ``/admin``: users log in and act by role (see :mod:`.auth`)."""
