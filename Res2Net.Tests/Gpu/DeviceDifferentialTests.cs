using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Res2Net.Gpu;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Gpu;

/// <summary>
/// The differential test (<see cref="DifferentialTests"/>) on the device: random small specs, compiled inside the test
/// with ILGPU referenced, so that the generator also emits each one's device forward (<c>X.Gpu.g.cs</c>), which runs on
/// ILGPU's CPU accelerator and must compute what the reference interpreter computes, within
/// <see cref="Tolerances.ReferenceRelative"/>; in a batch of <see cref="DifferentialTests.Batch"/>, every image's outputs
/// must be bit for bit those of the image run alone (the device's GEMM columns span the batch, so this checks that
/// images do not leak into each other's tiles). Four specs of the same random draw, one per stem and shortcut kind: plain
/// or deep stem, strided or avg_down shortcuts.
/// </summary>
public sealed class DeviceDifferentialTests(DeviceDifferentialTests.RandomDeviceNetworks networks, ITestOutputHelper output)
    : IClassFixture<DeviceDifferentialTests.RandomDeviceNetworks>
{
    public static TheoryData<int> Specs => new(Enumerable.Range(0, RandomDeviceNetworks.Count));

    [Theory]
    [MemberData(nameof(Specs))]
    public void DeviceForwardEqualsTheReference(int spec)
    {
        var (seed, architecture) = networks.Cases[spec];
        string json = networks.Json(spec);
        output.WriteLine($"seed {seed}: {json}");
        string className = DifferentialTests.ClassName(seed);
        var network = networks.Generated.Create(className);
        var stateDict = DifferentialTests.BindRandomWeights(network, seed);
        var reference = new ReferenceRes2Net(architecture, stateDict);
        var input = DifferentialTests.RandomImages(network.Info, seed);

        List<Discrepancy> discrepancies;
        using (network.OnDevice(networks.Accelerator, DifferentialTests.Batch, networks.Generated.CreateDeviceProgram(className)))
        {
            discrepancies = DifferentialTests.Compare(network, reference, input);
        }

        foreach (var d in discrepancies) output.WriteLine("  " + d);
        var failed = discrepancies.Where(d => !d.Holds).ToList();
        Assert.True(failed.Count == 0, $"seed {seed}: the device forward differs from the reference\n" +
            string.Join("\n", failed) + "\nspec: " + json);
    }

    /// <summary>
    /// The specs, drawn as the CPU differential test draws them (from its first seed on), compiled once with ILGPU; and a
    /// CPU accelerator of the geometry <see cref="Device.IlgpuCpu"/> uses, owned here so that its kernels (specialized on
    /// the generated assembly's structs) go with it before the assembly is unloaded.
    /// </summary>
    public sealed class RandomDeviceNetworks : IDisposable
    {
        public const int Count = 4;

        private readonly Context _context;

        public RandomDeviceNetworks()
        {
            var drawn = Enumerable.Range(DifferentialTests.Seed, 200).Select(seed => (seed, RandomArchitecture.Draw(new Random(seed)))).ToList();
            Cases = new[] { (false, false), (true, true), (true, false), (false, true) }
                .Select(kind => drawn.First(c => c.Item2.DeepStem == kind.Item1 && c.Item2.AvgDown == kind.Item2))
                .ToList();
            Generated = new GeneratedNetworks(Enumerable.Range(0, Count).Select(Json).ToList(), withIlgpu: true);
            _context = Context.Create(b => b.CPU(DeviceAccelerators.CpuDevice).Optimize(OptimizationLevel.O2));
            Accelerator = _context.GetCPUDevice(0).CreateAccelerator(_context);
        }

        internal IReadOnlyList<(int Seed, SpecArchitecture Architecture)> Cases { get; }

        internal GeneratedNetworks Generated { get; }

        internal Accelerator Accelerator { get; }

        internal string Json(int spec)
        {
            string seed = Cases[spec].Seed.ToString(CultureInfo.InvariantCulture);
            return Cases[spec].Architecture.ToSpecJson("random-" + seed, DifferentialTests.ClassName(Cases[spec].Seed));
        }

        public void Dispose()
        {
            Accelerator.Dispose();
            _context.Dispose();
            Generated.Dispose();
        }
    }
}
