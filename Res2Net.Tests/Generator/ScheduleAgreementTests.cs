using System.Reflection;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Kernels.Layers;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// The generator (netstandard2.0, which cannot reference the runtime) and the kernels' fallback each hold the schedule
/// rules: which thread split, how B is made, packing, the remainder, the direct conv's tiles. This test holds the two to
/// each other on every conv layer type the seed and test networks compile to: each generated type's schedule must be
/// the one the fallback plans for that signature on two threads (the count the generator chooses splits for) and its
/// vector width.
/// </summary>
public class ScheduleAgreementTests
{
    public static TheoryData<string> Assemblies => new() { "Res2Net.Models", "Res2Net.Tests" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void EveryGeneratedLayerTypeHasTheFallbacksSchedule(string assembly)
    {
        var types = LayerTypes(Assembly.Load(assembly)).ToList();
        Assert.NotEmpty(types);
        var disagreements = new List<string>();
        foreach (var type in types)
        {
            int Int(string name) => (int)Get(type, name);
            bool avx512 = type.Name.StartsWith("Avx512_", StringComparison.Ordinal);
            if (typeof(IDirectConvLayer).IsAssignableFrom(type))
            {
                var expected = DirectConv.FallbackSchedule(Int("OutChannels"), Int("InChannels"), Int("Height"), Int("Width"), Int("Kernel"),
                    Int("Stride"), Int("OutHeight"), Int("OutWidth"), threads: 2, avx512);
                var actual = (Int("Tiles"), Int("FiveVectorTiles"), (ThreadSplit)Get(type, "Split"));
                if (actual != expected) disagreements.Add($"{type.FullName}: generated {actual}, fallback {expected}");
            }
            else
            {
                int k = Int("InChannels") * Int("Kernel") * Int("Kernel");
                bool inPlace = Int("Kernel") == 1 && Int("Stride") == 1 && Int("Padding") == 0 && !(bool)Get(type, "Summed");
                var expected = Gemm.FallbackSchedule(Int("OutChannels"), Int("OutHeight") * Int("OutWidth"), k, inPlace,
                    tail: Int("TailChannel") > 0, threads: 2, avx512);
                var actual = ((ThreadSplit)Get(type, "Split"), (GemmInput)Get(type, "Input"), (bool)Get(type, "PackB"), (GemmRemainder)Get(type, "Remainder"));
                if (actual != expected) disagreements.Add($"{type.FullName}: generated {actual}, fallback {expected}");
            }
        }
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    /// <summary>The generated layer types: private nested structs of the network classes.</summary>
    private static IEnumerable<Type> LayerTypes(Assembly assembly) =>
        assembly.GetTypes().Where(t => t.IsValueType && t.IsNested &&
            (typeof(IDirectConvLayer).IsAssignableFrom(t) || typeof(IGemmConvLayer).IsAssignableFrom(t)) &&
            (t.Name.StartsWith("Avx512_", StringComparison.Ordinal) || t.Name.StartsWith("Avx2_", StringComparison.Ordinal)));

    private static object Get(Type type, string property) =>
        type.GetProperty(property, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
        ?? throw new InvalidOperationException($"{type.FullName} has no static {property}");
}
