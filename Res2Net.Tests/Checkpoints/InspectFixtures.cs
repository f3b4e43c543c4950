using System.Text.Json;
using Res2Net.Runtime.Networks;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// One checkpoint of <c>Fixtures/inspect/</c> (tools/reference/make_inspect_fixtures.py): a small Res2Net PyTorch saved in
/// some layout and format, the spec it was built from, and PyTorch's logits for <c>input.npy</c>.
/// </summary>
/// <param name="Name">The spec's name, e.g. <c>r101-v1b-w1-s2</c>; also the stem of its logits file.</param>
/// <param name="File">The checkpoint's file name in the folder.</param>
/// <param name="Format">zip, legacy or safetensors.</param>
/// <param name="Wrapper">Where the state dict sat: state_dict or none.</param>
/// <param name="Layout">mmpretrain, official, official-module (DataParallel's prefix) or timm.</param>
/// <param name="Architecture">The truth: the spec's fields, as the script built the network.</param>
/// <param name="InputHeight">The spec's input height (that of input.npy).</param>
/// <param name="InputWidth">The spec's input width.</param>
public sealed record InspectCase(string Name, string File, string Format, string Wrapper, string Layout, Res2NetArchitecture Architecture,
    int InputHeight, int InputWidth)
{
    public string Path => InspectFixtures.Path(File);

    /// <summary>For test names.</summary>
    public override string ToString() => File;
}

internal static class InspectFixtures
{
    public static string Path(string name) => Fixtures.Path("inspect", name);

    public static IReadOnlyList<InspectCase> Cases { get; } = Read();

    public static InspectCase Case(string file) => Cases.Single(c => c.File == file);

    private static IReadOnlyList<InspectCase> Read()
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(Path("cases.json")));
        var cases = new List<InspectCase>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var spec = c.GetProperty("spec");
            int[] blocks = spec.TryGetProperty("blocks", out var b)
                ? b.EnumerateArray().Select(x => x.GetInt32()).ToArray()
                : spec.GetProperty("depth").GetInt32() switch { 50 => [3, 4, 6, 3], 101 => [3, 4, 23, 3], 152 => [3, 8, 36, 3], var d => throw new InvalidDataException($"depth {d}") };
            var architecture = new Res2NetArchitecture(blocks, spec.GetProperty("base_width").GetInt32(), spec.GetProperty("scales").GetInt32(),
                spec.GetProperty("stem").GetString()!, spec.GetProperty("avg_down").GetBoolean(), spec.GetProperty("stem_channels").GetInt32(),
                spec.GetProperty("base_channels").GetInt32(), spec.GetProperty("num_classes").GetInt32());
            var size = spec.GetProperty("input_size").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            cases.Add(new InspectCase(spec.GetProperty("name").GetString()!, c.GetProperty("file").GetString()!, c.GetProperty("format").GetString()!,
                c.GetProperty("wrapper").GetString()!, c.GetProperty("layout").GetString()!, architecture, size[0], size[1]));
        }
        return cases;
    }
}
