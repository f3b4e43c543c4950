using Res2Net.Gpu;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Gpu;

/// <summary>
/// A full-size seed model's device forward (Res2Net.Gpu's Res2Net50W14S8Gpu, the program CUDA runs) on ILGPU's CPU
/// accelerator, against PyTorch's logits and stage samples on the same seeded weights (the fixtures
/// <see cref="SeededNetworkTests"/> holds the CPU forward to), within the CPU path's tolerances. res2net50-w14-s8 is the
/// smallest of the three (4.2 GMAC, 149 convs); one forward takes 40–80 s on this project's 2-core machines, the
/// CPU accelerator's speed with <c>CpuTile</c> (one thread per group: see its comment).
/// </summary>
public class SeededDeviceForwardTests
{
    [Fact]
    public void SmallestSeedModelGivesPyTorchsLogitsOnIlgpusCpuAccelerator()
    {
        const string name = "res2net50-w14-s8_3rdparty_8xb32_in1k";
        var network = Res2NetModels.Create(name);
        network.Load(SeededWeights.StateDict(network.Info), "seeded");
        using var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 1);
        var features = new FeatureCapture(1, 2, 3, 4);
        var logits = new float[network.Info.NumClasses];

        device.Forward(SeededWeights.Input(network.Info), 1, logits, features);

        SeededNetworkTests.AssertPyTorchsOutputs(name, logits, features);
    }
}
