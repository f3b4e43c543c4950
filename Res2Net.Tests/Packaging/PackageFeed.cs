using System.Reflection;
using System.Security;
using System.Xml.Linq;
using Res2Net.Tests.Generator;

namespace Res2Net.Tests.Packaging;

/// <summary>
/// The repository's packages, packed once per test class into a temporary feed outside the repository, under a
/// version of their own (<c>1.0.0-e2e.…</c>): no cached package of a real version can stand in for them, and the
/// test sees that one version, given on the command line, reaches every package and every dependency.
/// </summary>
/// <remarks>
/// <c>dotnet pack --no-build</c> packs what the test run's own build produced (same configuration), so packing costs
/// seconds, not a second build. Packages are restored into a private folder (<see cref="Packages"/>), never the
/// user's cache, which restores may still read from as a fallback folder (NuGet never writes there).
/// </remarks>
public sealed class PackageFeed
{
    public PackageFeed()
    {
        Root = TempFolders.Create("res2net-packaging-").FullName;
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        Packages = Directory.CreateDirectory(Path.Combine(Root, "nuget-packages")).FullName;
        Version = $"{RepositoryVersion}-e2e.r{Guid.NewGuid():N}"[..(RepositoryVersion.Length + 14)];

        // The tool's publish folder and the nuspec files go to the temporary folder too, not into the repository.
        Pack = DotnetCommand.Dotnet(GeneratorRunner.RepoFile(), Packages, null,
            "pack", "Res2Net.slnx", "--no-build", "-c", Configuration, "-p:Version=" + Version, "-o", Feed,
            "-p:PublishDir=" + Path.Combine(Root, "publish") + Path.DirectorySeparatorChar,
            "-p:NuspecOutputPath=" + Path.Combine(Root, "nuspec") + Path.DirectorySeparatorChar);
        if (Pack.ExitCode != 0) throw new InvalidOperationException($"dotnet pack failed ({Pack.ExitCode}):\n{Pack.Tail()}");
    }

    /// <summary>Directory.Build.props's Version: the one place the packages' version is set.</summary>
    public static string RepositoryVersion { get; } =
        XDocument.Load(GeneratorRunner.RepoFile("Directory.Build.props")).Descendants("Version").Single().Value;

    /// <summary>The configuration this test assembly was built in, which the packed projects were built in too.</summary>
    public static string Configuration { get; } =
        typeof(PackageFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The user's package cache (NUGET_PACKAGES, else ~/.nuget/packages), which the tests only read.</summary>
    public static string UserPackages { get; } = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
        ? set
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public string Root { get; }

    public string Feed { get; }

    /// <summary>The private global packages folder of every restore and tool install in these tests.</summary>
    public string Packages { get; }

    public string Version { get; }

    internal DotnetCommand.Result Pack { get; }

    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>
    /// A NuGet.config for a project in <paramref name="folder"/>: the feed first, then (unless <paramref name="feedOnly"/>)
    /// the sources this machine's own configuration names, which it inherits; the private package folder; the user's
    /// cache as a read-only fallback.
    /// </summary>
    public string WriteNuGetConfig(string folder, bool feedOnly = false)
    {
        string fallback = Directory.Exists(UserPackages)
            ? $"""
                <fallbackPackageFolders>
                  <add key="user-cache" value="{SecurityElement.Escape(UserPackages)}" />
                </fallbackPackageFolders>
              """
            : "";
        string path = Path.Combine(folder, "NuGet.config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{SecurityElement.Escape(Packages)}" />
              </config>
              <packageSources>
                {(feedOnly ? "<clear />" : "")}
                <add key="res2net-e2e" value="{SecurityElement.Escape(Feed)}" />
              </packageSources>
            {fallback}
            </configuration>
            """);
        return path;
    }
}
