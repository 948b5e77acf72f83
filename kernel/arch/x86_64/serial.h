#ifndef SERIAL_H
#define SERIAL_H
void serial_init(void);
void serial_putc(char c);
#define SERIAL_COM1 0x3f8   /* the kernel's console line */
#endif
