/*
 * Checks VK_LAYER_SIFTJS_compute_features (tools/vk-compute-layer) against the driver below it, through the Vulkan
 * loader: one instance with the layer enabled, one without, on the first physical device (lavapipe, by
 * VK_ICD_FILENAMES). Run by tests/lavapipe/layer.test.ts with VK_LAYER_PATH naming the layer's directory and
 * VK_INSTANCE_LAYERS unset. Prints one line per check, "ok NAME" or "FAIL NAME: why"; exits 1 if any failed.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <vulkan/vulkan.h>

static int failures = 0;

static void check(int ok, const char *name, const char *why) {
  if (ok) printf("ok %s\n", name);
  else {
    printf("FAIL %s: %s\n", name, why);
    failures++;
  }
}

static VkInstance make_instance(int with_layer) {
  const char *layers[] = {"VK_LAYER_SIFTJS_compute_features"};
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledLayerCount = with_layer ? 1 : 0,
      .ppEnabledLayerNames = with_layer ? layers : NULL,
  };
  VkInstance instance = VK_NULL_HANDLE;
  if (vkCreateInstance(&info, NULL, &instance) != VK_SUCCESS) return VK_NULL_HANDLE;
  return instance;
}

static VkPhysicalDevice first_device(VkInstance instance) {
  uint32_t n = 1;
  VkPhysicalDevice gpu = VK_NULL_HANDLE;
  VkResult r = vkEnumeratePhysicalDevices(instance, &n, &gpu);
  return (r == VK_SUCCESS || r == VK_INCOMPLETE) && n > 0 ? gpu : VK_NULL_HANDLE;
}

/* The features2 chain: 16-bit storage, float16/int8, Vulkan 1.1 and 1.2 features, all output. */
struct chain {
  VkPhysicalDeviceFeatures2 f2;
  VkPhysicalDevice16BitStorageFeatures storage16;
  VkPhysicalDeviceShaderFloat16Int8Features float16;
  VkPhysicalDeviceVulkan11Features v11;
  VkPhysicalDeviceVulkan12Features v12;
};

static void query_chain(VkPhysicalDevice gpu, struct chain *c) {
  memset(c, 0, sizeof *c);
  c->v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  c->v11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  c->v11.pNext = &c->v12;
  c->float16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
  c->float16.pNext = &c->v11;
  c->storage16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
  c->storage16.pNext = &c->float16;
  c->f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  c->f2.pNext = &c->storage16;
  vkGetPhysicalDeviceFeatures2(gpu, &c->f2);
}

/* Whether two structures are equal from their first member after pNext on. */
#define SAME_AFTER_PNEXT(a, b, type) \
  (memcmp((const char *)&(a) + offsetof(type, pNext) + sizeof(void *), \
          (const char *)&(b) + offsetof(type, pNext) + sizeof(void *), sizeof(type) - offsetof(type, pNext) - sizeof(void *)) == 0)

static VkResult create_device(VkPhysicalDevice gpu, const void *pNext, const VkPhysicalDeviceFeatures *features) {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = 0, .queueCount = 1, .pQueuePriorities = &priority};
  VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = pNext,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
      .pEnabledFeatures = features,
  };
  VkDevice device = VK_NULL_HANDLE;
  VkResult r = vkCreateDevice(gpu, &info, NULL, &device);
  if (r == VK_SUCCESS) vkDestroyDevice(device, NULL);
  return r;
}

int main(void) {
  VkInstance plain = make_instance(0), layered = make_instance(1);
  check(plain != VK_NULL_HANDLE, "an instance without the layer", "vkCreateInstance failed");
  check(layered != VK_NULL_HANDLE, "an instance with the layer", "vkCreateInstance failed (is VK_LAYER_PATH set?)");
  if (!plain || !layered) return 1;
  VkPhysicalDevice gpu0 = first_device(plain), gpu1 = first_device(layered);
  check(gpu0 && gpu1, "a physical device in each", "no physical device");
  if (!gpu0 || !gpu1) return 1;

  /* What the layer reports: the driver's features, with exactly the two claimed ones set. */
  VkPhysicalDeviceFeatures real, shown;
  vkGetPhysicalDeviceFeatures(gpu0, &real);
  vkGetPhysicalDeviceFeatures(gpu1, &shown);
  check(!real.shaderSampledImageArrayDynamicIndexing && !real.shaderStorageImageArrayDynamicIndexing,
        "the driver lacks both texture-array features", "this driver has one of them: the layer is not needed here");
  check(shown.shaderSampledImageArrayDynamicIndexing && shown.shaderStorageImageArrayDynamicIndexing,
        "vkGetPhysicalDeviceFeatures reports both", "one of them is still false");
  VkPhysicalDeviceFeatures expected = real;
  expected.shaderSampledImageArrayDynamicIndexing = VK_TRUE;
  expected.shaderStorageImageArrayDynamicIndexing = VK_TRUE;
  check(memcmp(&expected, &shown, sizeof shown) == 0, "vkGetPhysicalDeviceFeatures changes nothing else",
        "another feature differs from the driver's");

  struct chain c0, c1;
  query_chain(gpu0, &c0);
  query_chain(gpu1, &c1);
  check(memcmp(&c1.f2.features, &expected, sizeof expected) == 0, "vkGetPhysicalDeviceFeatures2 reports the same",
        "its VkPhysicalDeviceFeatures differs from vkGetPhysicalDeviceFeatures's");
  check(SAME_AFTER_PNEXT(c0.storage16, c1.storage16, VkPhysicalDevice16BitStorageFeatures) &&
            SAME_AFTER_PNEXT(c0.float16, c1.float16, VkPhysicalDeviceShaderFloat16Int8Features) &&
            SAME_AFTER_PNEXT(c0.v11, c1.v11, VkPhysicalDeviceVulkan11Features) &&
            SAME_AFTER_PNEXT(c0.v12, c1.v12, VkPhysicalDeviceVulkan12Features),
        "vkGetPhysicalDeviceFeatures2's chained structures are the driver's", "a chained structure differs");

  /* vkCreateDevice through pEnabledFeatures. */
  VkPhysicalDeviceFeatures ask = {.robustBufferAccess = VK_TRUE, .shaderSampledImageArrayDynamicIndexing = VK_TRUE,
                                  .shaderStorageImageArrayDynamicIndexing = VK_TRUE};
  VkPhysicalDeviceFeatures ask_before = ask;
  check(create_device(gpu0, NULL, &ask) == VK_ERROR_FEATURE_NOT_PRESENT,
        "without the layer the driver refuses them (pEnabledFeatures)", "the driver did not refuse");
  check(create_device(gpu1, NULL, &ask) == VK_SUCCESS, "with the layer vkCreateDevice succeeds (pEnabledFeatures)",
        "vkCreateDevice failed");
  check(memcmp(&ask, &ask_before, sizeof ask) == 0, "the caller's pEnabledFeatures is unchanged", "it was written");

  /* vkCreateDevice through a pNext chain: 16-bit storage, then features2 asking for both, then float16. */
  VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
                                                   .shaderFloat16 = VK_TRUE};
  VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16, .features = ask};
  VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                              .pNext = &f2, .storageBuffer16BitAccess = VK_TRUE};
  VkPhysicalDeviceShaderFloat16Int8Features f16_before = f16;
  VkPhysicalDeviceFeatures2 f2_before = f2;
  VkPhysicalDevice16BitStorageFeatures s16_before = s16;
  check(create_device(gpu0, &s16, NULL) == VK_ERROR_FEATURE_NOT_PRESENT,
        "without the layer the driver refuses them (VkPhysicalDeviceFeatures2)", "the driver did not refuse");
  check(create_device(gpu1, &s16, NULL) == VK_SUCCESS, "with the layer vkCreateDevice succeeds (VkPhysicalDeviceFeatures2)",
        "vkCreateDevice failed");
  check(memcmp(&f16, &f16_before, sizeof f16) == 0 && memcmp(&f2, &f2_before, sizeof f2) == 0 &&
            memcmp(&s16, &s16_before, sizeof s16) == 0,
        "the caller's chain is unchanged, pNext pointers included", "a structure of it was written");

  /* A feature the driver lacks and the layer does not claim is still refused, through either path. */
  VkPhysicalDeviceFeatures sparse = {.sparseBinding = VK_TRUE};
  check(!real.sparseBinding, "the driver lacks sparseBinding", "it has it: pick another unsupported feature");
  check(create_device(gpu1, NULL, &sparse) == VK_ERROR_FEATURE_NOT_PRESENT,
        "with the layer an unclaimed missing feature is still refused (pEnabledFeatures)", "it was not refused");
  VkPhysicalDeviceFeatures2 sparse2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .features = sparse};
  sparse2.features.shaderSampledImageArrayDynamicIndexing = VK_TRUE;
  check(create_device(gpu1, &sparse2, NULL) == VK_ERROR_FEATURE_NOT_PRESENT,
        "with the layer an unclaimed missing feature is still refused (VkPhysicalDeviceFeatures2)", "it was not refused");

  vkDestroyInstance(layered, NULL);
  vkDestroyInstance(plain, NULL);
  return failures ? 1 : 0;
}
