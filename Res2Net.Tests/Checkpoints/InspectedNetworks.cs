using Res2Net.Runtime.Networks;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Forward;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// The specs <c>res2net inspect --spec</c> writes for every checkpoint of <c>Fixtures/inspect/</c>, compiled together by
/// the generator (driven in-process, as a consumer's build would) into one assembly that is loaded here: made once
/// for all tests that use it, as compiling is most of their cost.
/// </summary>
public sealed class InspectedNetworks : IDisposable
{
    /// <summary>The namespace of the generated classes (so that they do not meet the test project's own).</summary>
    private const string Namespace = "Res2Net.Tests.Inspected";

    private readonly GeneratedNetworks _networks;

    public InspectedNetworks()
    {
        Folder = TempFolders.Create("res2net-inspected-").FullName;
        var specs = new List<(string Path, string Json)>();
        foreach (var c in InspectFixtures.Cases)
        {
            string spec = Path.Combine(Folder, c.Name + ".json");
            var (code, _, err) = CliTests.Run("inspect", c.Path, "--spec", spec, "--name", c.Name, "--input-size", $"{c.InputHeight}", $"{c.InputWidth}");
            if (code != 0) throw new InvalidOperationException($"inspect {c.File} failed ({code}): {err}");
            Specs[c.Name] = File.ReadAllText(spec);
            specs.Add((spec, Specs[c.Name]));
        }
        _networks = new GeneratedNetworks(specs.ToArray(), Namespace);
    }

    /// <summary>Where the specs were written.</summary>
    public string Folder { get; }

    /// <summary>Each case's spec as inspect wrote it, by the case's name.</summary>
    public Dictionary<string, string> Specs { get; } = new();

    /// <summary>A new, unloaded instance of the network compiled from the spec of case <paramref name="name"/>.</summary>
    public CompiledNetwork Create(string name) => _networks.CreateByName(name);

    public void Dispose() => _networks.Dispose();
}
