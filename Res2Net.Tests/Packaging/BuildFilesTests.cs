using System.Text.Json;
using Res2Net.Tests.Generator;
using Xunit;

namespace Res2Net.Tests.Packaging;

/// <summary>
/// What Res2Net.Generator's build files (build/Res2Net.Generator.props and .targets, which the package gives every
/// project that references it) make of a project, as MSBuild evaluates it: which files are specs, marked for the
/// generator and shown once in the IDE; the namespace; unsafe code allowed.
/// </summary>
public class BuildFilesTests
{
    [Fact]
    public void SpecsAreNetworksJsonAndTheProjectsOwnFoldersMarkedOnce()
    {
        var (properties, items) = Evaluate("my-app", "<Res2NetSpecs Include=\"specs/*.json\" />",
            // A plain AdditionalFiles item for a spec (as the README told users before the package): still one, marked.
            "<AdditionalFiles Include=\"stylecop.json\" /><AdditionalFiles Include=\"networks/a.json\" />");

        Assert.Equal("my_app", properties["Res2NetNamespace"]); // my-app is no namespace; `dotnet new` would say my_app too
        Assert.Equal("true", properties["AllowUnsafeBlocks"]);
        Assert.Equal(new[] { ("stylecop.json", ""), ("networks/a.json", "true"), ("specs/b.json", "true") }, items["AdditionalFiles"]);
        // Specs are not None items too (the IDE would list them twice); the schema stays an ordinary file.
        Assert.Equal(new[] { "networks/res2net.schema.json", "stylecop.json" }, items["None"].Select(i => i.Identity));
    }

    [Fact]
    public void TheDefaultFolderCanBeTurnedOffAndTheNamespaceSet()
    {
        var (properties, items) = Evaluate("2d", "<Res2NetSpecs Include=\"specs/*.json\" />", "",
            "<EnableDefaultRes2NetSpecs>false</EnableDefaultRes2NetSpecs>");
        Assert.Equal("_2d", properties["Res2NetNamespace"]);
        Assert.Equal(new[] { ("specs/b.json", "true") }, items["AdditionalFiles"]);

        (properties, _) = Evaluate("flowers", "", "", "<Res2NetNamespace>My.Networks</Res2NetNamespace>");
        Assert.Equal("My.Networks", properties["Res2NetNamespace"]);
    }

    /// <summary>
    /// A project named <paramref name="name"/> that imports the build files, with networks/a.json, the schema beside it,
    /// specs/b.json and stylecop.json on disk: its properties and its AdditionalFiles and None items (with Res2NetSpec).
    /// </summary>
    private static (Dictionary<string, string> Properties, Dictionary<string, (string Identity, string Spec)[]> Items) Evaluate(
        string name, string specItems, string otherItems, string properties = "")
    {
        string folder = TempFolders.Create("res2net-buildfiles-").FullName;
        foreach (string file in new[] { "networks/a.json", "networks/res2net.schema.json", "specs/b.json", "stylecop.json" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, file))!);
            File.WriteAllText(Path.Combine(folder, file), "{}");
        }
        string build = GeneratorRunner.RepoFile("Res2Net.Generator", "build");
        File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework>{properties}</PropertyGroup>
              <Import Project="{build}/Res2Net.Generator.props" />
              <ItemGroup>{specItems}{otherItems}</ItemGroup>
              <Import Project="{build}/Res2Net.Generator.targets" />
            </Project>
            """);

        // Nothing is restored (evaluation only); the package folder is outside the project, whose globs would see it.
        var run = DotnetCommand.Dotnet(folder, TempFolders.Create("res2net-buildfiles-packages-").FullName, null, "msbuild", name + ".csproj",
            "-getProperty:Res2NetNamespace", "-getProperty:AllowUnsafeBlocks", "-getItem:AdditionalFiles", "-getItem:None");
        Assert.True(run.ExitCode == 0, run.Tail());
        using var json = JsonDocument.Parse(run.StandardOutput);
        return (
            json.RootElement.GetProperty("Properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            json.RootElement.GetProperty("Items").EnumerateObject().ToDictionary(
                p => p.Name,
                p => p.Value.EnumerateArray()
                    .Select(i => (i.GetProperty("Identity").GetString()!, i.TryGetProperty("Res2NetSpec", out var m) ? m.GetString()! : ""))
                    .ToArray()));
    }
}
