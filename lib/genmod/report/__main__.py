"""``python -m genmod.report --device D --profile P --seed S`` (what ``make report`` runs)."""

from genmod.report.build import main

raise SystemExit(main())
