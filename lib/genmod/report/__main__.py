"""``python -m genmod.report --device D --profile P --seed S`` (what ``make report`` runs)."""

from genmod.report.base import skip_slow_optional_imports

skip_slow_optional_imports()

from genmod.report.cli import main  # noqa: E402

raise SystemExit(main())
