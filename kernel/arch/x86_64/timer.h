#ifndef TIMER_H
#define TIMER_H
#define TIMER_VECTOR 32
#define TIMER_HZ 100
void timer_init(unsigned hz);
int pic_is_spurious(int irq);
void pic_eoi(int irq);
void pic_mask(int irq);
void pic_unmask(int irq);
#endif
