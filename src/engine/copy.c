/* SPDX-License-Identifier: MIT */
/* Exact-width accesses to the real object (see copy.h). */
#include <string.h>

#include "engine/copy.h"

#define AVX512 __attribute__((target("avx512f,avx512bw")))
#define AVX __attribute__((target("avx")))

static void in16(void *dst, const volatile void *dev, bool nt)
{
	if (nt && !((uintptr_t)dev & 15))
		__asm__ volatile("movntdqa (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)"
				 :
				 : "r"(dst), "r"(dev)
				 : "xmm0", "memory");
	else
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)"
				 :
				 : "r"(dst), "r"(dev)
				 : "xmm0", "memory");
}

static AVX void in32(void *dst, const volatile void *dev)
{
	__asm__ volatile("vmovdqu (%1), %%ymm0\n\tvmovdqu %%ymm0, (%0)\n\tvzeroupper"
			 :
			 : "r"(dst), "r"(dev)
			 : "xmm0", "memory");
}

static AVX512 void in64(void *dst, const volatile void *dev, uint64_t bytemask)
{
	if (bytemask)
		__asm__ volatile("kmovq %2, %%k1\n\t"
				 "vmovdqu8 (%1), %%zmm0%{%%k1%}%{z%}\n\t"
				 "vmovdqu64 %%zmm0, (%0)\n\tvzeroupper"
				 :
				 : "r"(dst), "r"(dev), "r"(bytemask)
				 : "xmm0", "k1", "memory");
	else
		__asm__ volatile("vmovdqu64 (%1), %%zmm0\n\tvmovdqu64 %%zmm0, (%0)\n\tvzeroupper"
				 :
				 : "r"(dst), "r"(dev)
				 : "xmm0", "memory");
}

static void out16(volatile void *dev, const void *src, bool nt)
{
	if (nt && !((uintptr_t)dev & 15))
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovntdq %%xmm0, (%0)\n\tsfence"
				 :
				 : "r"(dev), "r"(src)
				 : "xmm0", "memory");
	else
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)"
				 :
				 : "r"(dev), "r"(src)
				 : "xmm0", "memory");
}

static AVX void out32(volatile void *dev, const void *src, bool nt)
{
	if (nt && !((uintptr_t)dev & 31))
		__asm__ volatile(
			"vmovdqu (%1), %%ymm0\n\tvmovntdq %%ymm0, (%0)\n\tsfence\n\tvzeroupper"
			:
			: "r"(dev), "r"(src)
			: "xmm0", "memory");
	else
		__asm__ volatile("vmovdqu (%1), %%ymm0\n\tvmovdqu %%ymm0, (%0)\n\tvzeroupper"
				 :
				 : "r"(dev), "r"(src)
				 : "xmm0", "memory");
}

static AVX512 void out64(volatile void *dev, const void *src, uint64_t bytemask, bool nt)
{
	if (bytemask)
		__asm__ volatile("kmovq %2, %%k1\n\t"
				 "vmovdqu64 (%1), %%zmm0\n\t"
				 "vmovdqu8 %%zmm0, (%0)%{%%k1%}\n\tvzeroupper"
				 :
				 : "r"(dev), "r"(src), "r"(bytemask)
				 : "xmm0", "k1", "memory");
	else if (nt && !((uintptr_t)dev & 63))
		__asm__ volatile(
			"vmovdqu64 (%1), %%zmm0\n\tvmovntdq %%zmm0, (%0)\n\tsfence\n\tvzeroupper"
			:
			: "r"(dev), "r"(src)
			: "xmm0", "memory");
	else
		__asm__ volatile("vmovdqu64 (%1), %%zmm0\n\tvmovdqu64 %%zmm0, (%0)\n\tvzeroupper"
				 :
				 : "r"(dev), "r"(src)
				 : "xmm0", "memory");
}

static unsigned piece(unsigned width)
{
	return width >= 8 ? 8 : width >= 4 ? 4 : width >= 2 ? 2 : 1;
}

/* signal context */
void copy_in(void *dst, const volatile void *dev, unsigned width, uint64_t bytemask, bool nt)
{
	if (width < 64 && bytemask == (1ull << width) - 1)
		bytemask = 0;
	if (bytemask) {
		in64(dst, dev, width >= 64 ? bytemask : bytemask & ((1ull << width) - 1));
		return;
	}
	switch (width) {
	case 1:
		*(uint8_t *)dst = *(const volatile uint8_t *)dev;
		return;
	case 2: {
		uint16_t v = *(const volatile uint16_t *)dev;
		memcpy(dst, &v, 2);
		return;
	}
	case 4: {
		uint32_t v = *(const volatile uint32_t *)dev;
		memcpy(dst, &v, 4);
		return;
	}
	case 8: {
		uint64_t v = *(const volatile uint64_t *)dev;
		memcpy(dst, &v, 8);
		return;
	}
	case 16:
		in16(dst, dev, nt);
		return;
	case 32:
		in32(dst, dev);
		return;
	case 64:
		in64(dst, dev, 0);
		return;
	}
	while (width) {
		unsigned n = piece(width);
		copy_in(dst, dev, n, 0, false);
		dst = (uint8_t *)dst + n;
		dev = (const volatile uint8_t *)dev + n;
		width -= n;
	}
}

/* signal context */
void copy_out(volatile void *dev, const void *src, unsigned width, uint64_t bytemask, bool nt)
{
	if (width < 64 && bytemask == (1ull << width) - 1)
		bytemask = 0;
	if (bytemask) {
		out64(dev, src, width >= 64 ? bytemask : bytemask & ((1ull << width) - 1), nt);
		return;
	}
	switch (width) {
	case 1:
		*(volatile uint8_t *)dev = *(const uint8_t *)src;
		return;
	case 2: {
		uint16_t v;
		memcpy(&v, src, 2);
		*(volatile uint16_t *)dev = v;
		return;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, src, 4);
		if (nt)
			__asm__ volatile("movnti %1, (%0)\n\tsfence"
					 :
					 : "r"(dev), "r"(v)
					 : "memory");
		else
			*(volatile uint32_t *)dev = v;
		return;
	}
	case 8: {
		uint64_t v;
		memcpy(&v, src, 8);
		if (nt)
			__asm__ volatile("movnti %1, (%0)\n\tsfence"
					 :
					 : "r"(dev), "r"(v)
					 : "memory");
		else
			*(volatile uint64_t *)dev = v;
		return;
	}
	case 16:
		out16(dev, src, nt);
		return;
	case 32:
		out32(dev, src, nt);
		return;
	case 64:
		out64(dev, src, 0, nt);
		return;
	}
	while (width) {
		unsigned n = piece(width);
		copy_out(dev, src, n, 0, false);
		src = (const uint8_t *)src + n;
		dev = (volatile uint8_t *)dev + n;
		width -= n;
	}
}
