using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Res2Net.Runtime.IO;

namespace Res2Net.Cli;

/// <summary>
/// A mistake in the command line itself (an unknown option, a missing required option, a value that does not
/// parse), found before any command runs. It is reported as one error line plus a short usage line for the
/// command, in the style of GNU tools and Python's argparse, rather than System.CommandLine's full help.
/// </summary>
internal sealed record UsageError(string Message, string Usage)
{
    /// <summary>The first mistake in <paramref name="parse"/>, or null when the command line is well-formed (or asks for help or the version).</summary>
    public static UsageError? Find(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.CommandResult.Children.OfType<OptionResult>().Any(o => o.Option is HelpOption or VersionOption)) return null;

        string? message = null;
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            message = LooksLikeOption(token) ? $"unrecognized option '{token}'"
                : command is RootCommand ? $"unknown command '{token}'"
                : $"unexpected argument '{token}'";
        }
        else if (OptionTakenAsArgument(parse) is { } option)
        {
            message = $"unrecognized option '{option}'";
        }
        else if (parse.Errors.Count > 0)
        {
            message = command is RootCommand && parse.Tokens.Count == 0 ? "no command given" : Rephrase(parse.Errors[0].Message);
        }
        return message == null ? null : new UsageError(DisplayText.Escape(message), UsageLine(command));
    }

    /// <summary>
    /// System.CommandLine hands any token to an argument that still has room (INPUT…, NAME, OUT), so a misspelt option
    /// would be taken for a file name. A token that starts with '-' and is not an option is refused unless it follows
    /// <c>--</c>, which (as in POSIX tools) is how a file named like an option is passed.
    /// </summary>
    private static string? OptionTakenAsArgument(ParseResult parse)
    {
        int doubleDash = parse.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        var afterDoubleDash = doubleDash < 0 ? [] : parse.Tokens.Skip(doubleDash + 1).ToHashSet(ReferenceEqualityComparer.Instance);
        return parse.CommandResult.Children.OfType<ArgumentResult>()
            .SelectMany(a => a.Tokens)
            .FirstOrDefault(t => LooksLikeOption(t.Value) && !afterDoubleDash.Contains(t))?.Value;
    }

    private static bool LooksLikeOption(string token) => token.Length > 1 && token[0] == '-';

    /// <summary>System.CommandLine's sentence as a clause after "error: ", with .NET type names in words.</summary>
    private static string Rephrase(string message) =>
        (char.ToLowerInvariant(message[0]) + message[1..].TrimEnd('.'))
        .Replace("as expected type 'System.Int32'", "as an integer", StringComparison.Ordinal)
        .Replace("as expected type 'System.IO.FileInfo'", "as a file path", StringComparison.Ordinal)
        .Replace("as expected type 'System.IO.DirectoryInfo'", "as a folder path", StringComparison.Ordinal)
        .Replace("as expected type 'System.Single'", "as a number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Double'", "as a number", StringComparison.Ordinal)
        .Replace("required argument missing for option: ", "no value given for ", StringComparison.Ordinal);

    /// <summary>
    /// <c>usage: res2net predict INPUT… --model NAME [options]; see 'res2net predict --help'</c>: the arguments and the
    /// required options, the rest left to the help.
    /// </summary>
    public static string UsageLine(Command command)
    {
        if (command is RootCommand)
        {
            return $"usage: res2net COMMAND [options], COMMAND one of {string.Join(", ", command.Subcommands.Select(c => c.Name))}; see 'res2net --help'";
        }
        var parts = new List<string> { "res2net", command.Name };
        foreach (var argument in command.Arguments)
        {
            string name = argument.HelpName ?? argument.Name;
            if (argument.Arity.MaximumNumberOfValues > 1) name += "…";
            parts.Add(argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : name);
        }
        foreach (var option in command.Options.Where(o => o.Required)) parts.Add($"{option.Name} {option.HelpName ?? option.Name.TrimStart('-').ToUpperInvariant()}");
        parts.Add("[options]");
        return $"usage: {string.Join(" ", parts)}; see 'res2net {command.Name} --help'";
    }
}
