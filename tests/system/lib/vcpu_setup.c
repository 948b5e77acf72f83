#include <berth/vcpu.h>
#include <libipc/libipc.h>
#include "vcpu_setup.h"

void vcpu_flat_segments(uint64_t vcpu, uint64_t cs_attrib)
{
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		int code = s == SEG_CS;
		sys_vcpu_write(vcpu, VCPU_SEGMENT(s, SEG_SELECTOR), code ? 8 : 16);
		sys_vcpu_write(vcpu, VCPU_SEGMENT(s, SEG_ATTRIB), code ? cs_attrib : 0xc93);
		sys_vcpu_write(vcpu, VCPU_SEGMENT(s, SEG_LIMIT), 0xffffffff);
		sys_vcpu_write(vcpu, VCPU_SEGMENT(s, SEG_BASE), 0);
	}
	sys_vcpu_write(vcpu, VCPU_RFLAGS, 2);
}
