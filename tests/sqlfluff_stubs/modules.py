"""sqlfluff's stand-in for dbt's `modules` context (lint only, .sqlfluff `library_path`)."""

import datetime
import re

__all__ = ["datetime", "re"]
