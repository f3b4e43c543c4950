using System.Text.Json;
using Res2Net.Runtime.IO;

namespace Res2Net.Tests;

/// <summary>
/// Reference outputs that PyTorch produced (tools/reference/make_fixtures.py), copied beside the test assembly.
/// </summary>
internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(parts).ToArray());

    public static (float[] Data, int[] Shape) Npy(params string[] parts) => Res2Net.Runtime.IO.Npy.Read(Path(parts));

    public static (long Params, long Flops) ParamsFlops(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path("params-flops.json")));
        var entry = doc.RootElement.GetProperty(name);
        return (entry.GetProperty("params").GetInt64(), entry.GetProperty("flops").GetInt64());
    }

    public static IReadOnlyDictionary<string, int[]> StateDictShapes(string name) =>
        Npz.Read(Path(name + ".state_dict.npz")).ToDictionary(kv => kv.Key, kv => kv.Value.Shape);

    /// <summary>max |actual − expected| over all elements, and max |expected| (the tensor's scale).</summary>
    public static (double MaxDiff, double Scale) Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"length {actual.Length} != expected {expected.Length}");
        double diff = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i])) return (double.PositiveInfinity, scale);
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return (diff, scale);
    }
}
