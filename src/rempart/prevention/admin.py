"""The prevention app registers nothing in the Django admin site, on purpose.

The admin site knows no city and no case team: a superuser would read every case there. Cases
are reached only through the unit's own pages, which apply need-to-know (see
:mod:`rempart.prevention.access` and docs/privacy.md).
"""
