/*
 * VK_LAYER_SIFTJS_compute_features: a Vulkan layer for testing siftjs's WebGPU backend on Mesa's lavapipe.
 *
 * Dawn refuses any Vulkan device without shaderSampledImageArrayDynamicIndexing and
 * shaderStorageImageArrayDynamicIndexing (arrays of sampled / storage images indexed by a dynamically uniform value).
 * Debian 12's lavapipe (Mesa 22.3) lacks both, though it has everything WebGPU's `shader-f16` needs. siftjs's kernels
 * are compute shaders over storage buffers and never declare an image, let alone an array of them, so these two bits
 * are never exercised. This layer, for the devices below it:
 *   - reports those two features as supported in vkGetPhysicalDeviceFeatures and vkGetPhysicalDeviceFeatures2(KHR)
 *     where the driver says they are not (and only those two: every other bit is the driver's);
 *   - in vkCreateDevice, clears the same bits from the requested features (pEnabledFeatures, or the
 *     VkPhysicalDeviceFeatures2 in the pNext chain), in a modified copy of the caller's structures, so the driver's
 *     own feature check accepts the device.
 * It prints nothing. A program that really used those features would get undefined behaviour: testing only.
 *
 * Written from the Vulkan loader's layer interface (LoaderLayerInterface.md): the loader finds the layer through its
 * JSON manifest, calls vkNegotiateLoaderLayerInterfaceVersion, and hands each vkCreateInstance / vkCreateDevice the
 * next link of the chain in a VkLayerInstanceCreateInfo / VkLayerDeviceCreateInfo.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define LAYER_NAME "VK_LAYER_SIFTJS_compute_features"
#define EXPORT __attribute__((visibility("default")))

/* Every structure that may extend VkDeviceCreateInfo, with its size, generated from the registry (vk.xml) by
 * build.mjs: a pNext chain can only be copied node by node. */
struct struct_size {
  VkStructureType sType;
  size_t size;
};
#include "device_create_structs.h"

/* The features this layer claims, as offsets into VkPhysicalDeviceFeatures. Texture-array indexing only. */
static const size_t claimed[] = {
    offsetof(VkPhysicalDeviceFeatures, shaderSampledImageArrayDynamicIndexing),
    offsetof(VkPhysicalDeviceFeatures, shaderStorageImageArrayDynamicIndexing),
};
#define N_CLAIMED (sizeof claimed / sizeof claimed[0])

static VkBool32 *bit(VkPhysicalDeviceFeatures *f, size_t offset) { return (VkBool32 *)((char *)f + offset); }
static VkBool32 get_bit(const VkPhysicalDeviceFeatures *f, size_t offset) {
  return *(const VkBool32 *)((const char *)f + offset);
}

/* ---- per-instance and per-device records, keyed by the loader's dispatch table pointer ---- */

/* A dispatchable handle begins with the loader's dispatch table pointer; an instance and its physical devices share
 * it, as do a device and its queues and command buffers. */
static void *dispatch_key(const void *handle) { return *(void *const *)handle; }

struct instance_record {
  void *key;
  VkInstance instance;
  PFN_vkGetInstanceProcAddr next_gipa;
  PFN_vkDestroyInstance destroy_instance;
  PFN_vkGetPhysicalDeviceFeatures get_features;
  PFN_vkGetPhysicalDeviceFeatures2 get_features2;
  PFN_vkGetPhysicalDeviceFeatures2KHR get_features2_khr;
  PFN_vkEnumerateDeviceExtensionProperties enumerate_device_extensions;
  struct instance_record *next;
};

struct device_record {
  void *key;
  PFN_vkGetDeviceProcAddr next_gdpa;
  PFN_vkDestroyDevice destroy_device;
  struct device_record *next;
};

static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static struct instance_record *instances;
static struct device_record *devices;

/* Records are never moved while alive: a pointer found here stays valid until its vkDestroy* call. */
static struct instance_record *find_instance(const void *handle) {
  void *key = dispatch_key(handle);
  pthread_mutex_lock(&records_lock);
  struct instance_record *r = instances;
  while (r && r->key != key) r = r->next;
  pthread_mutex_unlock(&records_lock);
  return r;
}

static struct device_record *find_device(const void *handle) {
  void *key = dispatch_key(handle);
  pthread_mutex_lock(&records_lock);
  struct device_record *r = devices;
  while (r && r->key != key) r = r->next;
  pthread_mutex_unlock(&records_lock);
  return r;
}

/* ---- the lie, and taking it back ---- */

/* Claim the features the driver lacks (`features` holds the driver's answer). */
static void claim(VkPhysicalDeviceFeatures *features) {
  for (size_t i = 0; i < N_CLAIMED; i++) *bit(features, claimed[i]) = VK_TRUE;
}

/* Whether `requested` asks for a claimed feature the driver (`real`) lacks. */
static bool asks_for_claimed(const VkPhysicalDeviceFeatures *requested, const VkPhysicalDeviceFeatures *real) {
  for (size_t i = 0; i < N_CLAIMED; i++)
    if (get_bit(requested, claimed[i]) && !get_bit(real, claimed[i])) return true;
  return false;
}

/* Clear from `requested` the claimed features the driver lacks. */
static void unclaim(VkPhysicalDeviceFeatures *requested, const VkPhysicalDeviceFeatures *real) {
  for (size_t i = 0; i < N_CLAIMED; i++)
    if (!get_bit(real, claimed[i])) *bit(requested, claimed[i]) = VK_FALSE;
}

/* ---- instance-level entry points ---- */

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFeatures(VkPhysicalDevice gpu,
                                                                  VkPhysicalDeviceFeatures *pFeatures) {
  struct instance_record *r = find_instance(gpu);
  r->get_features(gpu, pFeatures);
  claim(pFeatures);
}

/* The output chain's VkPhysicalDeviceFeatures2 is its head; walk the whole chain anyway (it is all output). */
static void claim_in_chain(VkPhysicalDeviceFeatures2 *pFeatures) {
  for (VkBaseOutStructure *s = (VkBaseOutStructure *)pFeatures; s; s = s->pNext)
    if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2) claim(&((VkPhysicalDeviceFeatures2 *)s)->features);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFeatures2(VkPhysicalDevice gpu,
                                                                   VkPhysicalDeviceFeatures2 *pFeatures) {
  struct instance_record *r = find_instance(gpu);
  r->get_features2(gpu, pFeatures);
  claim_in_chain(pFeatures);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFeatures2KHR(VkPhysicalDevice gpu,
                                                                      VkPhysicalDeviceFeatures2 *pFeatures) {
  struct instance_record *r = find_instance(gpu);
  r->get_features2_khr(gpu, pFeatures);
  claim_in_chain(pFeatures);
}

/* The layer adds no device extensions of its own. */
static VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceExtensionProperties(VkPhysicalDevice gpu,
                                                                               const char *pLayerName,
                                                                               uint32_t *pCount,
                                                                               VkExtensionProperties *pProperties) {
  if (pLayerName && strcmp(pLayerName, LAYER_NAME) == 0) {
    *pCount = 0;
    return VK_SUCCESS;
  }
  struct instance_record *r = find_instance(gpu);
  return r->enumerate_device_extensions(gpu, pLayerName, pCount, pProperties);
}

static VkLayerInstanceCreateInfo *instance_link(const VkInstanceCreateInfo *info) {
  for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
    if (s->sType != VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO) continue;
    VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)s;
    if (link->function == VK_LAYER_LINK_INFO) return link;
  }
  return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_CreateInstance(const VkInstanceCreateInfo *pCreateInfo,
                                                           const VkAllocationCallbacks *pAllocator,
                                                           VkInstance *pInstance) {
  VkLayerInstanceCreateInfo *link = instance_link(pCreateInfo);
  if (!link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  /* The loader's protocol: advance its link for the next layer before calling down. */
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;

  PFN_vkCreateInstance create = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;
  struct instance_record *r = calloc(1, sizeof *r);
  if (!r) return VK_ERROR_OUT_OF_HOST_MEMORY;
  VkResult result = create(pCreateInfo, pAllocator, pInstance);
  if (result != VK_SUCCESS) {
    free(r);
    return result;
  }
  VkInstance inst = *pInstance;
  r->key = dispatch_key(inst);
  r->instance = inst;
  r->next_gipa = next_gipa;
  r->destroy_instance = (PFN_vkDestroyInstance)next_gipa(inst, "vkDestroyInstance");
  r->get_features = (PFN_vkGetPhysicalDeviceFeatures)next_gipa(inst, "vkGetPhysicalDeviceFeatures");
  r->get_features2 = (PFN_vkGetPhysicalDeviceFeatures2)next_gipa(inst, "vkGetPhysicalDeviceFeatures2");
  r->get_features2_khr = (PFN_vkGetPhysicalDeviceFeatures2KHR)next_gipa(inst, "vkGetPhysicalDeviceFeatures2KHR");
  r->enumerate_device_extensions =
      (PFN_vkEnumerateDeviceExtensionProperties)next_gipa(inst, "vkEnumerateDeviceExtensionProperties");
  pthread_mutex_lock(&records_lock);
  r->next = instances;
  instances = r;
  pthread_mutex_unlock(&records_lock);
  return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL layer_DestroyInstance(VkInstance instance, const VkAllocationCallbacks *pAllocator) {
  if (!instance) return;
  void *key = dispatch_key(instance);
  pthread_mutex_lock(&records_lock);
  struct instance_record **p = &instances;
  while (*p && (*p)->key != key) p = &(*p)->next;
  struct instance_record *r = *p;
  if (r) *p = r->next;
  pthread_mutex_unlock(&records_lock);
  if (!r) return;
  r->destroy_instance(instance, pAllocator);
  free(r);
}

/* ---- vkCreateDevice: the requested features, less the claimed ones, in a copy ---- */

static size_t device_struct_size(VkStructureType sType) {
  /* The loader's own links (VK_LAYER_LINK_INFO, VK_LOADER_DATA_CALLBACK) travel in the same chain. */
  if (sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO) return sizeof(VkLayerDeviceCreateInfo);
  for (size_t i = 0; i < sizeof device_create_structs / sizeof device_create_structs[0]; i++)
    if (device_create_structs[i].sType == sType) return device_create_structs[i].size;
  return 0;
}

static bool chain_node_asks_for_claimed(const VkBaseInStructure *s, const VkPhysicalDeviceFeatures *real) {
  return s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 &&
         asks_for_claimed(&((const VkPhysicalDeviceFeatures2 *)s)->features, real);
}

/*
 * `copy` becomes `original` with the claimed features the driver lacks cleared: pEnabledFeatures points to
 * `features_copy`, and the pNext chain up to its last VkPhysicalDeviceFeatures2 that asks for one is copied node by
 * node (a node's pNext can only change in a copy); the rest of the chain is shared. The copies go in `nodes`
 * (free each). False where a node before that one has a type of unknown size: then nothing is changed.
 */
static bool copy_without_claimed(const VkDeviceCreateInfo *original, const VkPhysicalDeviceFeatures *real,
                                 VkDeviceCreateInfo *copy, VkPhysicalDeviceFeatures *features_copy, void ***nodes,
                                 size_t *n_nodes) {
  *copy = *original;
  *nodes = NULL;
  *n_nodes = 0;
  if (original->pEnabledFeatures && asks_for_claimed(original->pEnabledFeatures, real)) {
    *features_copy = *original->pEnabledFeatures;
    unclaim(features_copy, real);
    copy->pEnabledFeatures = features_copy;
  }
  size_t last = 0, i = 0; /* 1 + the index of the last node to change; 0: none */
  for (const VkBaseInStructure *s = original->pNext; s; s = s->pNext, i++)
    if (chain_node_asks_for_claimed(s, real)) last = i + 1;
  if (last == 0) return true;

  void **copies = calloc(last, sizeof *copies);
  if (!copies) return false;
  VkBaseOutStructure *prev = NULL;
  const VkBaseInStructure *s = original->pNext;
  for (i = 0; i < last; i++, s = s->pNext) {
    size_t size = device_struct_size(s->sType);
    void *node = size ? malloc(size) : NULL;
    if (!node) {
      for (size_t j = 0; j < i; j++) free(copies[j]);
      free(copies);
      *copy = *original;
      return false;
    }
    memcpy(node, s, size);
    copies[i] = node;
    if (chain_node_asks_for_claimed(s, real)) unclaim(&((VkPhysicalDeviceFeatures2 *)node)->features, real);
    if (prev) prev->pNext = node;
    else copy->pNext = node;
    prev = node;
  }
  prev->pNext = (VkBaseOutStructure *)s; /* the unchanged rest of the chain */
  *nodes = copies;
  *n_nodes = last;
  return true;
}

static VkLayerDeviceCreateInfo *device_link(const VkDeviceCreateInfo *info) {
  for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
    if (s->sType != VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO) continue;
    VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)s;
    if (link->function == VK_LAYER_LINK_INFO) return link;
  }
  return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_CreateDevice(VkPhysicalDevice gpu, const VkDeviceCreateInfo *pCreateInfo,
                                                         const VkAllocationCallbacks *pAllocator, VkDevice *pDevice) {
  struct instance_record *inst = find_instance(gpu);
  VkLayerDeviceCreateInfo *link = device_link(pCreateInfo);
  if (!inst || !link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  /* The loader's protocol: advance its link for the next layer before calling down (before copying, too). */
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)next_gipa(inst->instance, "vkCreateDevice");
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;

  struct device_record *r = calloc(1, sizeof *r);
  if (!r) return VK_ERROR_OUT_OF_HOST_MEMORY;
  VkPhysicalDeviceFeatures real;
  inst->get_features(gpu, &real);
  VkDeviceCreateInfo copy;
  VkPhysicalDeviceFeatures features_copy;
  void **nodes;
  size_t n_nodes;
  /* Where the chain cannot be copied, the driver gets the request as it is and answers for itself. */
  copy_without_claimed(pCreateInfo, &real, &copy, &features_copy, &nodes, &n_nodes);
  VkResult result = create(gpu, &copy, pAllocator, pDevice);
  for (size_t i = 0; i < n_nodes; i++) free(nodes[i]);
  free(nodes);
  if (result != VK_SUCCESS) {
    free(r);
    return result;
  }
  r->key = dispatch_key(*pDevice);
  r->next_gdpa = next_gdpa;
  r->destroy_device = (PFN_vkDestroyDevice)next_gdpa(*pDevice, "vkDestroyDevice");
  pthread_mutex_lock(&records_lock);
  r->next = devices;
  devices = r;
  pthread_mutex_unlock(&records_lock);
  return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL layer_DestroyDevice(VkDevice device, const VkAllocationCallbacks *pAllocator) {
  if (!device) return;
  void *key = dispatch_key(device);
  pthread_mutex_lock(&records_lock);
  struct device_record **p = &devices;
  while (*p && (*p)->key != key) p = &(*p)->next;
  struct device_record *r = *p;
  if (r) *p = r->next;
  pthread_mutex_unlock(&records_lock);
  if (!r) return;
  r->destroy_device(device, pAllocator);
  free(r);
}

/* ---- proc-address lookup ---- */

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice device, const char *pName) {
  if (strcmp(pName, "vkGetDeviceProcAddr") == 0) return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
  if (strcmp(pName, "vkDestroyDevice") == 0) return (PFN_vkVoidFunction)layer_DestroyDevice;
  if (!device) return NULL;
  struct device_record *r = find_device(device);
  return r ? r->next_gdpa(device, pName) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char *pName);

/* Ours where the layer intercepts the command, else NULL. */
static PFN_vkVoidFunction intercepted(const char *pName, const struct instance_record *r) {
  if (strcmp(pName, "vkGetInstanceProcAddr") == 0) return (PFN_vkVoidFunction)layer_GetInstanceProcAddr;
  if (strcmp(pName, "vkCreateInstance") == 0) return (PFN_vkVoidFunction)layer_CreateInstance;
  if (strcmp(pName, "vkGetDeviceProcAddr") == 0) return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
  if (!r) return NULL;
  /* The rest only where the next link offers the command. */
  if (strcmp(pName, "vkDestroyInstance") == 0) return (PFN_vkVoidFunction)layer_DestroyInstance;
  if (strcmp(pName, "vkCreateDevice") == 0) return (PFN_vkVoidFunction)layer_CreateDevice;
  if (strcmp(pName, "vkDestroyDevice") == 0) return (PFN_vkVoidFunction)layer_DestroyDevice;
  if (strcmp(pName, "vkGetPhysicalDeviceFeatures") == 0 && r->get_features)
    return (PFN_vkVoidFunction)layer_GetPhysicalDeviceFeatures;
  if (strcmp(pName, "vkGetPhysicalDeviceFeatures2") == 0 && r->get_features2)
    return (PFN_vkVoidFunction)layer_GetPhysicalDeviceFeatures2;
  if (strcmp(pName, "vkGetPhysicalDeviceFeatures2KHR") == 0 && r->get_features2_khr)
    return (PFN_vkVoidFunction)layer_GetPhysicalDeviceFeatures2KHR;
  if (strcmp(pName, "vkEnumerateDeviceExtensionProperties") == 0 && r->enumerate_device_extensions)
    return (PFN_vkVoidFunction)layer_EnumerateDeviceExtensionProperties;
  return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance instance, const char *pName) {
  struct instance_record *r = instance ? find_instance(instance) : NULL;
  PFN_vkVoidFunction ours = intercepted(pName, r);
  if (ours) return ours;
  return r ? r->next_gipa(instance, pName) : NULL;
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *pVersionStruct) {
  if (!pVersionStruct || pVersionStruct->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT) return VK_ERROR_INITIALIZATION_FAILED;
  if (pVersionStruct->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
  pVersionStruct->loaderLayerInterfaceVersion = 2;
  pVersionStruct->pfnGetInstanceProcAddr = layer_GetInstanceProcAddr;
  pVersionStruct->pfnGetDeviceProcAddr = layer_GetDeviceProcAddr;
  pVersionStruct->pfnGetPhysicalDeviceProcAddr = NULL;
  return VK_SUCCESS;
}
