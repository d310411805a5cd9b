from bnlint.launch import main

raise SystemExit(main())
