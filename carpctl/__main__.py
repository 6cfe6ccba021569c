from carpctl.cli import main

raise SystemExit(main())
