from kvmtui.cli import main

raise SystemExit(main())
