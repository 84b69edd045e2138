# mmscope.gdb: gdb settings for a program running under mmscope
# (docs/design.md, "Under a debugger"):
#   gdb -x PREFIX/share/mmscope/mmscope.gdb -p PID
#
# mmscope's own signals pass through without a stop: its faults on traced
# pages (SIGSEGV), its raw-mmap traps (SIGSYS), its park signal (SIG63).
handle SIGSEGV nostop noprint pass
handle SIGSYS nostop noprint pass
handle SIG63 nostop noprint pass

# The single-step SIGTRAP (si_code 2, TRAP_TRACE) that ends a step of
# mmscope's slow path goes back to the program silently, as `signal
# SIGTRAP` would: it is the one the thread the agent names in
# mmscope_stepping_tid gets.  Every other SIGTRAP is gdb's as usual (its
# own breakpoints, watchpoints and steps, and the program's own traps).
python
import gdb


class _MmscopeStepTrap(gdb.Function):
    """$_mmscope_step_trap(): 1 when this SIGTRAP ends an mmscope step."""

    def __init__(self):
        super().__init__("_mmscope_step_trap")

    def invoke(self):
        try:
            if int(gdb.parse_and_eval("$_siginfo.si_code")) != 2:
                return 0
            owner = int(gdb.parse_and_eval("*(int *)&mmscope_stepping_tid"))
        except gdb.error:
            return 0  # not a program under mmscope
        return 1 if owner and owner == gdb.selected_thread().ptid[1] else 0


_MmscopeStepTrap()
end
catch signal SIGTRAP
condition $bpnum $_mmscope_step_trap()
commands
  silent
  signal SIGTRAP
end
