# tools/check_docs.py: the docs name only paths inside the tree, and those
# exist (issue 14); run by make test with the unit tests, as one TAP test
$(BUILD)/tests/unit/check_docs: tools/check_docs.py
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec $(PYTHON) %s/tools/check_docs.py --tap %s\n' "$(CURDIR)" "$(CURDIR)" >$@
	$(Q)chmod 755 $@
EXTRA_UNIT_BIN += $(BUILD)/tests/unit/check_docs
