from vm.standin_vm import standin_vm, vm_factory  # noqa: F401  (the stand-in VM fixtures)
