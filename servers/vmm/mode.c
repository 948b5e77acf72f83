/* The `mode=` argument (mode.h). */
#include "vm.h"
#include "mode.h"

static const char *const names[] = {
	[VMM_MODE_SVM] = "svm",
	[VMM_MODE_SHADOW] = "shadow",
	[VMM_MODE_TRAP] = "trap",
	[VMM_MODE_PATCH] = "patch",
	[VMM_MODE_PV] = "pv",
};

const char *vmm_mode_name(enum vmm_mode mode)
{
	return (unsigned)mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

int vmm_mode(const char *args)
{
	size_t len;
	const char *v = arg_value(args, "mode=", &len);
	if (!v)
		return VMM_MODE_SVM;
	for (unsigned m = 0; m < sizeof(names) / sizeof(names[0]); m++)
		if (len == strlen(names[m]) && !strncmp(v, names[m], len))
			return (int)m;
	debug_printf("vmm: %sunknown mode=%.*s (svm, shadow, trap, patch, pv)\n", vm_name, (int)len, v);
	return -1;
}
