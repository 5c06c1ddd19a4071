"""Every table of the product, for migrations and tests.

The billing records, rules, actions and outbox are in `models`; other parts
of the product keep their tables in modules of their own, imported here so
that they register with the one metadata.
"""

from __future__ import annotations

import duecourse.adapters.db.api_tables
import duecourse.adapters.db.billing_tables
import duecourse.adapters.db.desk_tables
import duecourse.adapters.db.negotiation_tables  # noqa: F401
from duecourse.adapters.db import statement_tables  # noqa: F401
from duecourse.adapters.db.models import Base

metadata = Base.metadata

__all__ = ["metadata"]
