"""Pulumi programs, one file per program. A service picks its program with `pulumi.program: module:function`."""
