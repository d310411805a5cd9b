from bnlint.cli import main

raise SystemExit(main())
