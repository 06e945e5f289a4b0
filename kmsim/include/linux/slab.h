/* SPDX-License-Identifier: GPL-2.0 */
/* kmsim's linux/slab.h: SLUB caches and kmalloc (written for kmsim). */
#ifndef _KMSIM_LINUX_SLAB_H
#define _KMSIM_LINUX_SLAB_H

#include <linux/gfp.h>
#include <linux/types.h>

#define SLAB_CONSISTENCY_CHECKS	((slab_flags_t)0x00000100u)
#define SLAB_RED_ZONE	((slab_flags_t)0x00000400u)
#define SLAB_POISON	((slab_flags_t)0x00000800u)
#define SLAB_HWCACHE_ALIGN	((slab_flags_t)0x00002000u)
#define SLAB_CACHE_DMA	((slab_flags_t)0x00004000u)
#define SLAB_CACHE_DMA32	((slab_flags_t)0x00008000u)
#define SLAB_STORE_USER	((slab_flags_t)0x00010000u)
#define SLAB_RECLAIM_ACCOUNT	((slab_flags_t)0x00020000u)
#define SLAB_PANIC	((slab_flags_t)0x00040000u)
#define SLAB_TYPESAFE_BY_RCU	((slab_flags_t)0x00080000u)
#define SLAB_MEM_SPREAD	((slab_flags_t)0x00100000u)
#define SLAB_TRACE	((slab_flags_t)0x00200000u)
#define SLAB_DEBUG_OBJECTS	((slab_flags_t)0x00400000u)
#define SLAB_NOLEAKTRACE	((slab_flags_t)0x00800000u)
#define SLAB_FAILSLAB	((slab_flags_t)0x02000000u)
#define SLAB_ACCOUNT	((slab_flags_t)0x04000000u)
#define SLAB_KASAN	((slab_flags_t)0x08000000u)
#define SLAB_NO_USER_FLAGS	((slab_flags_t)0x10000000u)
#define SLAB_SKIP_KFENCE	((slab_flags_t)0x20000000u)
#define SLAB_TEMPORARY	((slab_flags_t)0x00020000u)

#define ZERO_SIZE_PTR		((void *)16)
#define ZERO_OR_NULL_PTR(x)	((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)
#define KMALLOC_MAX_SIZE	(1UL << 22)
#define KMALLOC_MAX_CACHE_SIZE	(1UL << 13)

struct kmem_cache;

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     slab_flags_t flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfpflags);
void *kmem_cache_zalloc(struct kmem_cache *k, gfp_t flags);
void kmem_cache_free(struct kmem_cache *s, void *objp);
unsigned int kmem_cache_size(struct kmem_cache *s);
int kmem_cache_shrink(struct kmem_cache *s);
#define KMEM_CACHE(__struct, __flags)					\
	kmem_cache_create(#__struct, sizeof(struct __struct),		\
			  __alignof__(struct __struct), (__flags), NULL)

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void *krealloc(const void *objp, size_t new_size, gfp_t flags);
void kfree(const void *objp);
void kfree_sensitive(const void *objp);
size_t ksize(const void *objp);
char *kstrdup(const char *s, gfp_t gfp);
void *kmemdup(const void *src, size_t len, gfp_t gfp);
size_t kmalloc_size_roundup(size_t size);

#endif
